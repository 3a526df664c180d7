import { getDefaultRegistry } from '@rjsf/core';
import { getWidget, type WidgetProps } from '@rjsf/utils';

/** @rjsf/core's own select, which this one labels. */
const SelectWidget = getWidget({ type: 'number' }, 'select', getDefaultRegistry().widgets);

/**
 * The picker of a choice (`oneOf`: where a CSV file comes from, a schedule, a credential) with its own label:
 * @rjsf/core gives that <select> an id of its own (`…__oneof_select`), which the field's label does not name,
 * so screen readers would announce an unnamed list. Use with `'ui:label': false` on the choice.
 */
export function ChoiceWidget(props: WidgetProps) {
  return (
    <>
      <label htmlFor={props.id}>
        {props.label}
        {props.required ? <span className="required">*</span> : null}
      </label>
      <SelectWidget {...props} />
    </>
  );
}
